"""A small pure-Python gRPC client for one bidirectional-streaming call over cleartext HTTP/2.

The agent's helper process uses it instead of grpcio, so that it needs neither grpcio nor
protobuf (issue 21: agent RSS under 20 MB). Standard library only; no ssl (h2c with prior
knowledge). See client.py for the API.
"""
