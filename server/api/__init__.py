"""Transport layer: gRPC servicers, interceptors and proto <-> domain conversion."""
