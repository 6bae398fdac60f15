// Package semconv holds every span and resource attribute name the drift components read, in the
// semantic conventions' old and new spellings (instrumentations in the field write both), and which
// of them were renamed. It is the one place to add a name when the conventions change.
package semconv

// Resource attributes.
const ServiceName = "service.name"

// Span attributes that name a call's callee.
const (
	ServicePeerName = "service.peer.name" // new
	PeerService     = "peer.service"      // old
	ServerAddress   = "server.address"    // new
	NetPeerName     = "net.peer.name"     // old
	ServerPort      = "server.port"       // new
	NetPeerPort     = "net.peer.port"     // old
	URLFull         = "url.full"          // new
	HTTPURL         = "http.url"          // old
	RPCService      = "rpc.service"
)

// Span attributes that name a call's operation.
const (
	RPCMethod                = "rpc.method"
	HTTPRoute                = "http.route"
	URLPath                  = "url.path"            // new
	HTTPTarget               = "http.target"         // old
	HTTPRequestMethod        = "http.request.method" // new
	HTTPMethod               = "http.method"         // old
	DBSystemName             = "db.system.name"      // new
	DBSystem                 = "db.system"           // old
	DBNamespace              = "db.namespace"        // new
	DBName                   = "db.name"             // old
	DBOperationName          = "db.operation.name"   // new
	DBOperation              = "db.operation"        // old
	MessagingSystem          = "messaging.system"
	MessagingDestinationName = "messaging.destination.name" // new
	MessagingDestination     = "messaging.destination"      // old
	MessagingOperationName   = "messaging.operation.name"   // new
	MessagingOperationType   = "messaging.operation.type"   // new
	MessagingOperation       = "messaging.operation"        // old
)

// Span attributes that say how a call went.
const (
	HTTPRequestResendCount = "http.request.resend_count"
	HTTPResponseStatusCode = "http.response.status_code" // new
	HTTPStatusCode         = "http.status_code"          // old
	RPCGRPCStatusCode      = "rpc.grpc.status_code"
)

// renamed pairs the names that the conventions renamed: the newer name first.
var renamed = [][2]string{
	{ServicePeerName, PeerService},
	{DBSystemName, DBSystem},
	{DBNamespace, DBName},
	{DBOperationName, DBOperation},
	{ServerAddress, NetPeerName},
	{ServerPort, NetPeerPort},
	{URLFull, HTTPURL},
	{HTTPRequestMethod, HTTPMethod},
	{MessagingDestinationName, MessagingDestination},
	{MessagingOperationType, MessagingOperation},
	{HTTPResponseStatusCode, HTTPStatusCode},
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
