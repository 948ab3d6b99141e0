"""Fake servers (real aiohttp apps on 127.0.0.1) that the end-to-end tests run the real clients against."""
