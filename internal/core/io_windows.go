package core

// closeRemovesRegistration: closesocket does not end an AFD registration
// in the poller's table (it ends with a completion, later), and a new
// socket may get the same handle value at once, so watchers always Delete.
const closeRemovesRegistration = false
