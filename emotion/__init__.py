"""The site's core app (home page, access rules, one engine per process, stored media) and its feature apps."""
