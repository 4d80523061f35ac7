package errs_test

// uvECONNREFUSED is libuv's UV_ECONNREFUSED on Windows (uv-errno.h), which
// is not the negated Winsock code.
const uvECONNREFUSED = -4078
