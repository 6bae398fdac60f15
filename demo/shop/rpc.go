package shop

import (
	"context"
	"encoding/json"
	"net"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
)

// jsonCodec lets the demo speak real gRPC (HTTP/2, the gRPC framing and status, otelgrpc's spans)
// without generated protobuf code: messages are JSON.
type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

// message is every request and answer of the demo's gRPC services.
type message struct {
	Items []string `json:"items,omitempty"`
	Total int      `json:"total,omitempty"`
}

// rpcMethod handles one unary method.
type rpcMethod func(ctx context.Context, in *message) (*message, error)

// serveGRPC serves the methods of one gRPC service on a loopback port and returns its address.
func (s *service) serveGRPC(serviceName string, methods map[string]rpcMethod) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	desc := grpc.ServiceDesc{ServiceName: serviceName, HandlerType: (*any)(nil)}
	for name, fn := range methods {
		fn := fn
		desc.Methods = append(desc.Methods, grpc.MethodDesc{
			MethodName: name,
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := new(message)
				if err := dec(in); err != nil {
					return nil, err
				}
				return fn(ctx, in)
			},
		})
	}
	srv := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(s.tp), otelgrpc.WithPropagators(propagator))))
	srv.RegisterService(&desc, struct{}{})
	go func() { _ = srv.Serve(ln) }()
	s.close = append([]func(context.Context) error{func(context.Context) error { srv.GracefulStop(); return nil }}, s.close...)
	return ln.Addr().String(), nil
}

// dialGRPC connects this service to a gRPC server, with the client instrumentation.
func (s *service) dialGRPC(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(s.tp), otelgrpc.WithPropagators(propagator))),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype(jsonCodec{}.Name())),
	)
	if err != nil {
		return nil, err
	}
	s.close = append(s.close, func(context.Context) error { return conn.Close() })
	return conn, nil
}

// call invokes a unary method, as /service/method.
func call(ctx context.Context, conn *grpc.ClientConn, method string, in *message) (*message, error) {
	out := new(message)
	return out, conn.Invoke(ctx, method, in, out)
}
