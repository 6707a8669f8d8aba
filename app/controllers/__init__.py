"""HTTP controllers: parse, call one service, render."""
