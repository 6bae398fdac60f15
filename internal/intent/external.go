package intent

// External names the caller of a call that comes from outside the traced system.
const External = "external"
