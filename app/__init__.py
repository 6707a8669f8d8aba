"""AdsVideo: an AI ad-video studio."""
