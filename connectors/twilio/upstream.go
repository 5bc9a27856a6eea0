package twilio

// Outbound, an upstream of kind twilio sits in front of Twilio's REST API (api.twilio.com):
// Programmable Messaging sends (SMS, MMS, WhatsApp) and Voice calls. Both create one
// resource per request for one recipient, the form field To, so hush never edits a Twilio
// send: it forwards it byte for byte or answers it in Twilio's place.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Option keys of a twilio upstream.
const (
	// OptionMessagingServices maps Messaging Service sids (MG…) to the category of the
	// messages sent through them: {MG…: transactional}.
	OptionMessagingServices = "messaging_services"
	// OptionSidCache bounds how many made-up resources hush remembers to answer a later
	// fetch of their sid with the same to/from (default 10000; 0 remembers none).
	OptionSidCache = "sid_cache"
)

// HeaderClientValidation carries the signature of Twilio's Public Key Client Validation:
// such a request is signed over its body and is never edited.
const HeaderClientValidation = "Twilio-Client-Validation"

// ErrorUnsubscribed is the Twilio error code hush answers with when it refuses a send
// (on_all_dropped: error). https://www.twilio.com/docs/errors/21610
const ErrorUnsubscribed = 21610

const (
	apiVersion       = "2010-04-01"
	accountsPrefix   = "/" + apiVersion + "/Accounts/"
	defaultSidCache  = 10000
	unsubscribedText = "Attempt to send to unsubscribed recipient"
	// statusFetched is what a fetch of a made-up sid reports. A tool that polls a message
	// or call until it reaches a final status must stop: "canceled" is final for both
	// resources, says nothing was sent, and, unlike "failed" with error 21610, does not
	// invite the tool to mark the number as permanently unsubscribed (a silence is
	// temporary).
	statusFetched = "canceled"
)

// resource is the kind of Twilio resource a send creates.
type resource struct {
	collection string // "Messages", "Calls"
	sidPrefix  string // "SM", "CA"
}

var (
	messages = resource{collection: "Messages", sidPrefix: "SM"}
	calls    = resource{collection: "Calls", sidPrefix: "CA"}
)

// Upstream enforces hush's policy on Twilio's Messages and Calls. Safe for concurrent use:
// its configuration never changes after NewUpstream and the sid cache has its own lock.
type Upstream struct {
	name     string
	services map[string]gateway.Category
	sids     *sidCache
	now      func() time.Time
}

// NewUpstream builds a twilio upstream from its configuration (options messaging_services
// and sid_cache).
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	opts := options.NewReader(Kind, cfg.Options)
	services := opts.Categories(OptionMessagingServices)
	cacheSize := opts.Int(OptionSidCache, defaultSidCache)
	if err := opts.Done(); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	for sid := range services {
		if !strings.HasPrefix(sid, "MG") {
			return nil, fmt.Errorf("upstream %q: option %q: %q is not a Messaging Service sid (MG…)", cfg.Name, OptionMessagingServices, sid)
		}
	}
	if cacheSize < 0 {
		return nil, fmt.Errorf("upstream %q: option %q must be 0 or more", cfg.Name, OptionSidCache)
	}
	return &Upstream{name: cfg.Name, services: services, sids: newSidCache(cacheSize), now: time.Now}, nil
}

// sendState is what ParseSend read, kept for DroppedResponse.
type sendState struct {
	res     resource
	account string
	form    url.Values
	to      string // the To field as sent (whatsapp: prefix included), trimmed
}

// splitAccount reads "/2010-04-01/Accounts/{AccountSid}/{tail}".
func splitAccount(p string) (account, tail string, ok bool) {
	rest, ok := strings.CutPrefix(p, accountsPrefix)
	if !ok {
		return "", "", false
	}
	account, tail, ok = strings.Cut(rest, "/")
	if !ok || account == "" {
		return "", "", false
	}
	return account, tail, true
}

// ParseSend reads POST /2010-04-01/Accounts/{AccountSid}/Messages.json and Calls.json;
// every other request is not a send. The older forms of these endpoints (no extension,
// .xml, the retired SMS/Messages) are refused rather than forwarded unchecked.
func (u *Upstream) ParseSend(req *gateway.OutboundRequest) (*gateway.Send, error) {
	if req.Method != http.MethodPost {
		return nil, nil
	}
	account, tail, ok := splitAccount(req.Path)
	if !ok {
		return nil, nil
	}
	var res resource
	switch tail {
	case "Messages.json":
		res = messages
	case "Calls.json":
		res = calls
	default:
		// Other spellings of the send endpoints (the XML forms, the retired SMS/Messages, a
		// different case or a trailing slash) may be sends Twilio accepts: refused, never
		// forwarded unchecked.
		switch strings.ToLower(strings.TrimSuffix(tail, "/")) {
		case "messages", "messages.json", "messages.xml", "calls", "calls.json", "calls.xml",
			"sms/messages", "sms/messages.json", "sms/messages.xml":
			return nil, gateway.Errorf(gateway.CodeInvalid, "hush checks Twilio sends on …/Messages.json and …/Calls.json exactly; point the tool at those")
		}
		return nil, nil
	}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, gateway.Errorf(gateway.CodeInvalid, "a Twilio %s send must be form-encoded (Content-Type: application/x-www-form-urlencoded)", res.collection)
		}
	}
	for key := range req.Query {
		if strings.EqualFold(key, "To") {
			return nil, gateway.Errorf(gateway.CodeInvalid, "To in the query string is not supported: send it in the form body")
		}
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return nil, gateway.Errorf(gateway.CodeInvalid, "the body of a Twilio %s send is not a valid form (application/x-www-form-urlencoded)", res.collection)
	}
	for key := range form {
		if key != "To" && strings.EqualFold(key, "To") {
			return nil, gateway.Errorf(gateway.CodeInvalid, "form field %q: Twilio's recipient field is spelled To", key)
		}
	}
	tos := form["To"]
	switch {
	case len(tos) == 0 || strings.TrimSpace(tos[0]) == "":
		return nil, gateway.Errorf(gateway.CodeInvalid, "form field To is required: the recipient of the Twilio %s send", res.collection)
	case len(tos) > 1:
		return nil, gateway.Errorf(gateway.CodeInvalid, "form field To appears %d times; a Twilio send has one recipient", len(tos))
	}
	rc, ch, err := readTo(res, tos[0])
	if err != nil {
		return nil, err
	}
	send := &gateway.Send{
		Recipients: []gateway.Recipient{rc},
		Channel:    ch,
		State:      &sendState{res: res, account: account, form: form, to: strings.TrimSpace(tos[0])},
	}
	if res == messages {
		send.Category = u.services[form.Get("MessagingServiceSid")]
	}
	return send, nil
}

// vendorKind is the identity kind of a To that is not a phone number (a call to a Twilio
// Client or a SIP address): "twilio:client:alice", "twilio:sip:alice@example.com". Those
// are still decided by the policy (a silence or opt-out on that identity, an incident, a
// cap), never forwarded unchecked.
const vendorKind = Kind

// readTo reads the To field: a phone number, a "whatsapp:" channel address, or for calls a
// "client:" or "sip:" address. Any other channel address is refused.
func readTo(res resource, raw string) (gateway.Recipient, gateway.Channel, error) {
	to := strings.TrimSpace(raw)
	ch := gateway.ChannelSMS
	if res == calls {
		ch = gateway.ChannelVoice
	}
	scheme, rest, found := strings.Cut(to, ":")
	if !found {
		return gateway.Recipient{Kind: gateway.KindPhone, Address: unescapedPlus(raw)}, ch, nil
	}
	switch s := strings.ToLower(scheme); {
	case s == "whatsapp":
		phone := unescapedPlus(rest)
		if phone == "" {
			return gateway.Recipient{}, "", gateway.Errorf(gateway.CodeInvalid, "form field To: the WhatsApp number is empty")
		}
		return gateway.Recipient{Kind: gateway.KindPhone, Address: phone}, gateway.ChannelWhatsApp, nil
	case res == calls && s == "client":
		// Client parameters ride after '?': "client:alice?lang=es".
		name, _, _ := strings.Cut(rest, "?")
		if name = strings.TrimSpace(name); name == "" {
			return gateway.Recipient{}, "", gateway.Errorf(gateway.CodeInvalid, "form field To: the client name is empty")
		}
		return gateway.Recipient{Kind: vendorKind, Address: "client:" + name}, ch, nil
	case res == calls && (s == "sip" || s == "sips"):
		// "sip:alice@example.com;transport=tls?x-hdr=1" is the address alice@example.com.
		addr, _, _ := strings.Cut(rest, "?")
		addr, _, _ = strings.Cut(addr, ";")
		if addr = strings.ToLower(strings.TrimSpace(addr)); addr == "" {
			return gateway.Recipient{}, "", gateway.Errorf(gateway.CodeInvalid, "form field To: the SIP address is empty")
		}
		return gateway.Recipient{Kind: vendorKind, Address: "sip:" + addr}, ch, nil
	default:
		accepted := "phone numbers and whatsapp: addresses"
		if res == calls {
			accepted = "phone numbers and whatsapp:, client: and sip: addresses"
		}
		return gateway.Recipient{}, "", gateway.Errorf(gateway.CodeInvalid, "form field To: hush reads %s to %s only", strings.ToLower(res.collection), accepted)
	}
}

// unescapedPlus repairs a number whose '+' was not percent-encoded, so that the form
// decoder turned it into a space ("To=+34600111222" reads " 34600111222"): Twilio reads it
// as the international number it meant, and so must hush, or a silenced number would be
// read in the wrong country (or not at all) while Twilio still delivers to it.
func unescapedPlus(s string) string {
	if t := strings.TrimLeft(s, " "); len(t) < len(s) && t != "" && t[0] >= '0' && t[0] <= '9' {
		return "+" + strings.TrimSpace(t)
	}
	return strings.TrimSpace(s)
}

// Rewrite never has anything to remove: a Twilio send has exactly one recipient, so it is
// either forwarded as it is or not at all. It returns the body unchanged when that one
// recipient is kept, and refuses anything else, and always refuses a request signed with
// Public Key Client Validation (its signature covers the body).
func (u *Upstream) Rewrite(req *gateway.OutboundRequest, send *gateway.Send, keep []bool) ([]byte, error) {
	if req.Header.Get(HeaderClientValidation) != "" {
		return nil, fmt.Errorf("twilio upstream %q: the request is signed (%s); hush never edits a signed request", u.name, HeaderClientValidation)
	}
	if len(keep) != 1 || len(send.Recipients) != 1 {
		return nil, fmt.Errorf("twilio upstream %q: a Twilio send has one recipient, asked to rewrite %d of %d", u.name, len(keep), len(send.Recipients))
	}
	if !keep[0] {
		return nil, fmt.Errorf("twilio upstream %q: rewrite must keep at least one recipient", u.name)
	}
	return req.Body, nil
}

// twilioError is Twilio's error document
// (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions).
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// DroppedResponse answers a send hush withheld. As a success: 201 Created with the Message
// or Call resource Twilio answers a create with (status queued, or scheduled for a
// scheduled message), under a sid hush made up and can recognise later (AnswerLocally).
// As a refusal: 400 with Twilio error 21610, "Attempt to send to unsubscribed recipient"
// (https://www.twilio.com/docs/errors/21610), for messages and calls alike: it is the one
// Twilio error that says the recipient does not want to be contacted.
func (u *Upstream) DroppedResponse(req *gateway.OutboundRequest, send *gateway.Send, asError bool) (int, http.Header, []byte) {
	header := http.Header{"Content-Type": []string{"application/json"}}
	refuse := func() (int, http.Header, []byte) {
		body, _ := json.Marshal(twilioError{
			Code: ErrorUnsubscribed, Message: unsubscribedText,
			MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", ErrorUnsubscribed), Status: http.StatusBadRequest,
		})
		return http.StatusBadRequest, header, body
	}
	st, ok := send.State.(*sendState)
	if asError || !ok {
		// A send this upstream did not parse has nothing to build a resource from: refused.
		return refuse()
	}
	created := u.now().UTC().Format(time.RFC1123Z)
	sid := newSid(st.res, st.account)
	var created201, fetched any
	if st.res == messages {
		m := newMessage(st, sid, created)
		created201 = m
		f := m
		f.Status, f.Body = statusFetched, ptr("") // kept without its text, as Twilio shows a redacted message
		fetched = f
	} else {
		c := newCall(st, sid, created)
		created201 = c
		f := c
		f.Status = statusFetched
		fetched = f
	}
	if fb, err := marshal(fetched); err == nil {
		u.sids.put(sid, fb)
	}
	body, err := marshal(created201)
	if err != nil {
		// Not expected (the resource is strings; encoding/json replaces invalid UTF-8), and
		// still never forwarded: the tool is told the send did not happen.
		return refuse()
	}
	return http.StatusCreated, header, body
}

// marshal writes JSON the way Twilio does: '<', '>' and '&' as themselves.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func ptr[T any](v T) *T { return &v }

// optional is nil (JSON null) for an empty string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// message is Twilio's Message resource as its create answers it; field names and order as
// in Twilio's own fixtures (twilio-python tests/integration/api/v2010/account/test_message.py)
// and the twilio-go model ApiV2010Message.
type message struct {
	AccountSid          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                *string           `json:"body"`
	DateCreated         *string           `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         *string           `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  *string           `json:"to"`
	URI                 string            `json:"uri"`
}

func messageURI(account, sid string) string {
	return accountsPrefix + account + "/Messages/" + sid + ".json"
}

func newMessage(st *sendState, sid, created string) message {
	f := st.form
	status := "queued"
	if f.Get("ScheduleType") == "fixed" && f.Get("SendAt") != "" {
		status = "scheduled"
	}
	service := f.Get("MessagingServiceSid")
	segments := "1"
	switch {
	case service != "":
		// "For messages sent via a Messaging Service, num_segments is initially 0, since a
		// sender hasn't yet been assigned" (Message resource reference).
		segments = "0"
	case !strings.HasPrefix(strings.ToLower(st.to), "whatsapp:"):
		segments = fmt.Sprint(smsSegments(f.Get("Body")))
	}
	// Twilio answers the text as sent: the caller already has it, nothing new is revealed.
	return message{
		AccountSid:          st.account,
		APIVersion:          apiVersion,
		Body:                ptr(f.Get("Body")),
		DateCreated:         ptr(created),
		DateUpdated:         ptr(created),
		Direction:           "outbound-api",
		From:                optional(f.Get("From")),
		MessagingServiceSid: optional(service),
		NumMedia:            fmt.Sprint(len(f["MediaUrl"])),
		NumSegments:         segments,
		PriceUnit:           "USD",
		Sid:                 sid,
		Status:              status,
		SubresourceURIs:     map[string]string{"media": accountsPrefix + st.account + "/Messages/" + sid + "/Media.json"},
		To:                  ptr(st.to),
		URI:                 messageURI(st.account, sid),
	}
}

// call is Twilio's Call resource as its create answers it (twilio-python
// tests/integration/api/v2010/account/test_call.py; twilio-go ApiV2010Call).
type call struct {
	AccountSid      string            `json:"account_sid"`
	Annotation      *string           `json:"annotation"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	CallerName      *string           `json:"caller_name"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	Direction       string            `json:"direction"`
	Duration        *string           `json:"duration"`
	EndTime         *string           `json:"end_time"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	From            *string           `json:"from"`
	FromFormatted   *string           `json:"from_formatted"`
	GroupSid        *string           `json:"group_sid"`
	ParentCallSid   *string           `json:"parent_call_sid"`
	PhoneNumberSid  *string           `json:"phone_number_sid"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	QueueTime       string            `json:"queue_time"`
	Sid             string            `json:"sid"`
	StartTime       *string           `json:"start_time"`
	Status          string            `json:"status"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
	To              *string           `json:"to"`
	ToFormatted     *string           `json:"to_formatted"`
	TrunkSid        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
}

func callURI(account, sid string) string {
	return accountsPrefix + account + "/Calls/" + sid + ".json"
}

func newCall(st *sendState, sid, created string) call {
	base := accountsPrefix + st.account + "/Calls/" + sid
	from := optional(st.form.Get("From"))
	return call{
		AccountSid:    st.account,
		APIVersion:    apiVersion,
		DateCreated:   ptr(created),
		DateUpdated:   ptr(created),
		Direction:     "outbound-api",
		From:          from,
		FromFormatted: from,
		PriceUnit:     "USD",
		QueueTime:     "0",
		Sid:           sid,
		Status:        "queued",
		SubresourceURIs: map[string]string{
			"notifications": base + "/Notifications.json",
			"recordings":    base + "/Recordings.json",
		},
		To:          ptr(st.to),
		ToFormatted: ptr(st.to),
		URI:         callURI(st.account, sid),
	}
}

// gsm7 is the GSM 03.38 default alphabet; gsm7Ext its extension table, whose characters
// take two septets.
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

// smsSegments counts the SMS segments of a text the way carriers split it: 160 GSM-7
// septets in one segment or 153 per segment of a longer one; otherwise 70 UTF-16 units, or
// 67 per segment.
func smsSegments(text string) int {
	septets, isGSM := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			isGSM = false
		}
	}
	if isGSM {
		return segments(septets, 160, 153)
	}
	return segments(len(utf16.Encode([]rune(text))), 70, 67)
}

func segments(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// Made-up sids. A sid is a two-letter prefix and 32 lowercase hex digits; hush's are 16
// random hex digits followed by 16 hex digits of SHA-256 over a fixed label, the prefix, the
// account sid and those random digits. Any replica, before or after a restart, recognises
// them without shared state, and only under the account that sent. A sid Twilio made
// passes the check by chance with probability 2^-64 (about 5e-20) per sid; two made-up
// sids collide only after about 2^32 (4 billion) of them.
const sidLabel = "hush twilio made-up sid v1"

func sidCheck(prefix, account, random string) string {
	sum := sha256.Sum256([]byte(sidLabel + "\x00" + prefix + "\x00" + account + "\x00" + random))
	return hex.EncodeToString(sum[:8])
}

func newSid(res resource, account string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	random := hex.EncodeToString(b[:])
	return res.sidPrefix + random + sidCheck(res.sidPrefix, account, random)
}

// isMadeUp reports whether sid is one hush made up for this resource and account.
func isMadeUp(res resource, account, sid string) bool {
	if len(sid) != 34 || !strings.HasPrefix(sid, res.sidPrefix) {
		return false
	}
	for _, c := range sid[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return sid[18:] == sidCheck(res.sidPrefix, account, sid[2:18])
}

// sidCache remembers the fetch view of the last made-up resources, oldest forgotten first.
type sidCache struct {
	mu      sync.Mutex
	entries map[string][]byte
	ring    []string
	next    int
}

func newSidCache(size int) *sidCache {
	return &sidCache{entries: make(map[string][]byte, min(size, 1024)), ring: make([]string, size)}
}

func (c *sidCache) put(sid string, body []byte) {
	if len(c.ring) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.ring[c.next]; old != "" {
		delete(c.entries, old)
	}
	c.ring[c.next] = sid
	c.next = (c.next + 1) % len(c.ring)
	c.entries[sid] = body
}

func (c *sidCache) get(sid string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.entries[sid]
	return b, ok
}

func (c *sidCache) remove(sid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, sid)
}

// AnswerLocally answers requests about a Message or Call resource hush made up, which
// Twilio does not know (it would answer 404): GET (fetch) and POST (update) answer the
// resource with status canceled, DELETE answers 204. Remembered resources repeat their
// to/from (never the message text); after a restart, or once forgotten, the answer has
// only the sid, account and status. Any other sid is forwarded to Twilio.
func (u *Upstream) AnswerLocally(req *gateway.OutboundRequest) (int, http.Header, []byte, bool) {
	if req.Method != http.MethodGet && req.Method != http.MethodPost && req.Method != http.MethodDelete {
		return 0, nil, nil, false
	}
	account, tail, ok := splitAccount(req.Path)
	if !ok {
		return 0, nil, nil, false
	}
	collection, file, ok := strings.Cut(tail, "/")
	if !ok {
		return 0, nil, nil, false
	}
	sid, ok := strings.CutSuffix(file, ".json")
	var res resource
	switch collection {
	case messages.collection:
		res = messages
	case calls.collection:
		res = calls
	default:
		return 0, nil, nil, false
	}
	if !ok || !isMadeUp(res, account, sid) {
		return 0, nil, nil, false
	}
	if req.Method == http.MethodDelete {
		u.sids.remove(sid)
		return http.StatusNoContent, http.Header{}, nil, true
	}
	header := http.Header{"Content-Type": []string{"application/json"}}
	if body, ok := u.sids.get(sid); ok {
		return http.StatusOK, header, body, true
	}
	var v any
	if res == messages {
		v = message{AccountSid: account, APIVersion: apiVersion, Direction: "outbound-api", NumMedia: "0", NumSegments: "0",
			PriceUnit: "USD", Sid: sid, Status: statusFetched, URI: messageURI(account, sid),
			SubresourceURIs: map[string]string{"media": accountsPrefix + account + "/Messages/" + sid + "/Media.json"}}
	} else {
		v = call{AccountSid: account, APIVersion: apiVersion, Direction: "outbound-api", PriceUnit: "USD", QueueTime: "0",
			Sid: sid, Status: statusFetched, URI: callURI(account, sid)}
	}
	body, err := marshal(v)
	if err != nil {
		return 0, nil, nil, false
	}
	return http.StatusOK, header, body, true
}

// The proxy uses these optional interfaces.
var (
	_ gateway.Upstream      = (*Upstream)(nil)
	_ gateway.LocalAnswerer = (*Upstream)(nil)
)
