"""The chat server: a socket loop over protocol_lib.ServerCore."""
