package intent

// External names the caller of a call that comes from outside the traced system.
const External = "external"

// renamed pairs attribute names that semantic conventions renamed: the newer name first.
var renamed = [][2]string{
	{"service.peer.name", "peer.service"},
	{"db.system.name", "db.system"},
	{"db.namespace", "db.name"},
	{"db.operation.name", "db.operation"},
	{"server.address", "net.peer.name"},
	{"server.port", "net.peer.port"},
	{"url.full", "http.url"},
	{"http.request.method", "http.method"},
	{"messaging.destination.name", "messaging.destination"},
	{"messaging.operation.type", "messaging.operation"},
}

// Equivalents returns key followed by its names in other semantic-convention versions, so that a
// matcher written with either name reads spans written with either.
func Equivalents(key string) []string {
	for _, r := range renamed {
		if r[0] == key {
			return []string{key, r[1]}
		}
		if r[1] == key {
			return []string{key, r[0]}
		}
	}
	return []string{key}
}
