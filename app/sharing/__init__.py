"""Out into the world: share links, embeds and oEmbed, and the public gallery."""
