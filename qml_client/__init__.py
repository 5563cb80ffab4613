"""The PySide6 QML desktop client over protocol_lib.ClientCore."""
