"""Ad finishing: turn a generated clip into ready-to-post ads (hook, captions, CTA end card, music, trim,
one rendition per placement). The engine modules here are pure functions over files and images."""
