package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"time"
)

// WebhookRequest is one inbound delivery as a connector sees it: the raw body (at most the
// configured limit), the headers, the URL it arrived on and when.
type WebhookRequest struct {
	Source     string // configured source name
	Method     string
	URL        *url.URL // path and query as received (Host/Scheme may be empty behind proxies)
	Header     http.Header
	Body       []byte
	ReceivedAt time.Time
}

// ParseResult is what a connector made of a verified delivery.
type ParseResult struct {
	// Events to store. Each has ID set to the vendor's delivery id (or the documented
	// combination) so that redeliveries are recognized.
	Events []Event
	// Ignored counts event types the source does not care about; acknowledged, not stored.
	Ignored int
}

// Connector turns one vendor's webhooks into normalized events. One value serves one
// configured source; it must be safe for concurrent use.
type Connector interface {
	// Verify checks the vendor's signature over the raw body, in constant time. It returns a
	// *VerifyError (or wraps one) when the delivery is not authentic.
	Verify(req *WebhookRequest) error
	// Parse turns a verified delivery into events. Bytes that cannot be understood are an
	// error (the delivery goes to the dead-letter store); unknown event types are Ignored.
	Parse(req *WebhookRequest) (ParseResult, error)
}

// SourceConfig is one configured inbound source (the `sources:` list of hush.yaml).
type SourceConfig struct {
	Name      string
	Kind      string
	Secret    string
	Insecure  bool          // accept unsigned deliveries (logged as a warning at every start)
	Tolerance time.Duration // signed-timestamp tolerance; 0: the connector's default (5m)
	// Options holds the kind-specific keys (auth_token, public_url, field refs…). A connector
	// rejects keys it does not know, so typos are caught at start-up.
	Options       map[string]any
	DefaultRegion string
}

// VerifyReason says why a delivery failed verification.
type VerifyReason string

const (
	VerifyMissingHeader   VerifyReason = "missing_header"
	VerifyMalformedHeader VerifyReason = "malformed_header"
	VerifyBadSignature    VerifyReason = "bad_signature"
	VerifyStaleTimestamp  VerifyReason = "stale_timestamp"
	VerifyMissingSecret   VerifyReason = "missing_secret"
)

// VerifyError is a typed signature-verification failure. Its message never contains the
// secret nor the expected signature.
type VerifyError struct {
	Reason VerifyReason
	Detail string // which header, how stale
}

func (e *VerifyError) Error() string {
	if e.Detail == "" {
		return "signature verification failed: " + string(e.Reason)
	}
	return "signature verification failed: " + string(e.Reason) + ": " + e.Detail
}

// IsVerifyError reports whether err is (or wraps) a *VerifyError.
func IsVerifyError(err error) bool {
	var v *VerifyError
	return errors.As(err, &v)
}

// OutboundRequest is one request a marketing tool sent through the proxy, as an upstream
// connector sees it. Path is the part after /proxy/{upstream}, always starting with "/".
type OutboundRequest struct {
	Upstream string
	Method   string
	Path     string
	Query    url.Values
	Header   http.Header
	Body     []byte
}

// Recipient is one addressee found in a send. Address is what the request says ("Ana
// <ana@example.com>" is the connector's job to reduce to "ana@example.com"); Kind says how to
// read it: KindEmail, KindPhone or a vendor id kind.
type Recipient struct {
	Kind    string
	Address string
}

// Send is a request on one of the upstream's send endpoints, with its recipients in the
// order the connector will use to rewrite it.
type Send struct {
	Recipients []Recipient
	// Channel the send uses (an upstream serving several channels decides per request;
	// empty: the upstream's configured default).
	Channel Channel
	// Category the send declares through the vendor's own fields, as the upstream's options
	// map them (a SendGrid category or unsubscribe group, a Postmark broadcast stream, a
	// Twilio messaging service); empty: the upstream's configured category. The caller's
	// Hush-Category header still wins over both.
	Category Category
	// Opaque state the connector keeps between ParseSend and Rewrite/DroppedResponse.
	State any
}

// Upstream is one vendor's outbound API as the proxy enforces it. One value serves one
// configured upstream; it must be safe for concurrent use.
type Upstream interface {
	// ParseSend finds the recipients of a send. It returns (nil, nil) for requests that are
	// not sends (they are forwarded untouched) and an error for a send it cannot read.
	ParseSend(req *OutboundRequest) (*Send, error)
	// Rewrite returns the body with only the recipients whose keep[i] is true (len(keep) ==
	// len(send.Recipients)), editing the raw document so no other field is lost. At least
	// one recipient is kept. A kept recipient that cannot be sent to without a dropped one
	// (the Cc of a message whose To was dropped) is removed too and its keep[i] set to
	// false, so that the proxy counts it and gives back its cap slot; when that leaves
	// nobody, Rewrite returns ErrNothingToSend and the send is answered as if every
	// recipient had been dropped.
	Rewrite(req *OutboundRequest, send *Send, keep []bool) ([]byte, error)
	// DroppedResponse answers a send whose every recipient was dropped, in the vendor's own
	// shape: its success answer, or its refusal when asError is set.
	DroppedResponse(req *OutboundRequest, send *Send, asError bool) (status int, header http.Header, body []byte)
}

// ErrNothingToSend is returned by Upstream.Rewrite when what is left of a send after the
// dropped recipients are removed cannot be sent: the proxy then treats the whole send as
// dropped (answered by hush, never forwarded).
var ErrNothingToSend = errors.New("nothing is left to send once the dropped recipients are removed")

// The proxy also uses these optional interfaces when an Upstream implements them.

// ResponseEditor is an upstream whose answer to a partly dropped send must account for the
// dropped recipients: a Postmark batch answers one entry per message in request order, a
// Mandrill send one entry per recipient. For a 2xx answer to a send where keep has false
// entries, the proxy reads the upstream's answer (uncompressed, at most the body limit) and
// forwards what EditResponse returns instead. An error forwards the upstream's answer as it
// was (and is logged): the send happened, the answer is only less complete.
type ResponseEditor interface {
	EditResponse(req *OutboundRequest, send *Send, keep []bool, status int, header http.Header, body []byte) ([]byte, error)
}

// LocalAnswerer is an upstream that answers some requests that are not sends in the
// vendor's place: a Twilio GET of a Message sid hush made up when it answered a dropped send
// (Twilio would answer 404). ok false: forward the request as usual.
type LocalAnswerer interface {
	AnswerLocally(req *OutboundRequest) (status int, header http.Header, body []byte, ok bool)
}

// DroppedForwarder is an upstream that can forward a harmless form of a fully dropped send
// instead of having hush answer it: Delighted creates the person with send=false, so the
// survey is suppressed but the contact is still recorded. ok false: answer with
// DroppedResponse as usual.
type DroppedForwarder interface {
	ForwardDropped(req *OutboundRequest, send *Send) (body []byte, ok bool, err error)
}

// UpstreamConfig is one configured upstream (the `upstreams:` list of hush.yaml).
type UpstreamConfig struct {
	Name     string
	Kind     string
	URL      string
	Category Category // default category of its sends
	Channel  Channel  // default channel of its sends
	// Sync asks hush to keep the vendor's own suppression list in step with its silences
	// (`sync: true`); the kind's sync options (credentials, group…) are in Options.
	Sync    bool
	Options map[string]any
}
