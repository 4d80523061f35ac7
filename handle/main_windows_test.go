package handle_test

// installSafetyNet has nothing to do on Windows, whose Signal tests send no
// signal to the process.
func installSafetyNet() {}
