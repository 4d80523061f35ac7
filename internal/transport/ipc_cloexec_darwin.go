package transport

// recvCloexec is 0 on macOS, which has no MSG_CMSG_CLOEXEC: received
// descriptors are marked close-on-exec right after recvmsg.
const recvCloexec = 0
