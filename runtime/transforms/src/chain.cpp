// The transformation chain of a connector (in progress).
