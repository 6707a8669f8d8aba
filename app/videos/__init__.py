"""Videos: the studio, creating a video, the generation pipeline, the library and live progress."""
