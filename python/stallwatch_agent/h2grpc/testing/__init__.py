"""Peers for h2grpc's tests: a raw rogue HTTP/2 server and a grpc-js echo server."""
