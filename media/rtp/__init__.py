"""RTP: the ports calls' audio comes and goes through, the codecs between them, music and recordings."""
