"""The plain-Python core of xdrconf. Nothing under this package may import Qt."""
