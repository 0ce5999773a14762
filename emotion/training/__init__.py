"""Training and evaluation of the engine's model on FER2013: never imported by the engine or the site."""

# The engine's package first: it sets OpenCV's image limit, which OpenCV reads once when it loads, and
# data.py and degrade.py import cv2.
import emotion.ml  # noqa: F401,E402
