package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/hush-gateway/hush/gateway"
)

// bufferPool lends ReverseProxy 32 KiB copy buffers instead of allocating one per response.
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any {
		b := make([]byte, 32*1024)
		return &b
	}}}
}

func (p *bufferPool) Get() []byte  { return *(p.pool.Get().(*[]byte)) }
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }

// handleProxy forwards ANY /proxy/{upstream}/{path...} to the configured upstream, removing
// the recipients the policy drops from its send requests.
func handleProxy(deps Deps) http.Handler {
	buffers := newBufferPool()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := pathVar(r, "upstream")
		up, ok := deps.Upstreams[name]
		if err != nil || !ok {
			deps.Metrics.proxyRequests.WithLabelValues("unknown", "404").Inc()
			writeErrorCode(w, gateway.CodeNotFound, "no upstream is configured under this name")
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			deps.Metrics.proxyRequests.WithLabelValues(name, strconv.Itoa(status)).Inc()
		}()
		p := &proxyExchange{deps: deps, up: up, buffers: buffers}
		p.serve(rec, r)
	})
}

// proxyExchange is one request through the proxy.
type proxyExchange struct {
	deps    Deps
	up      Upstream
	buffers httputil.BufferPool
}

// sendPlan is what the policy made of a send.
type sendPlan struct {
	send      *gateway.Send
	decisions []gateway.Decision
	keep      []bool // per recipient of send: forwarded
	index     []int  // per recipient of send: its decision in decisions, or -1
	// body is the rewritten (plain) body when rewritten; otherwise the caller's bytes go on.
	body      []byte
	rewritten bool
	allowed   int
	dropped   int
	shadow    int // would-be dropped, in shadow mode
	isSend    bool
	local     *localAnswer // the connector answers this request itself
}

// localAnswer is an answer given in the upstream's place.
type localAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (p *proxyExchange) shadow() bool { return p.up.Mode == ModeShadow }

func (p *proxyExchange) serve(w http.ResponseWriter, r *http.Request) {
	rawRest, rest, err := proxyPath(r)
	if err != nil {
		writeError(w, r, p.deps.Logger, err)
		return
	}
	timeout := p.up.Timeout
	if timeout <= 0 {
		timeout = defaultUpstreamTimeout
	}
	// The upstream's timeout bounds the whole exchange, the streamed response included.
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	r = r.WithContext(ctx)

	raw, err := readBody(w, r, p.deps.Limits.Body)
	if err != nil {
		writeError(w, r, p.deps.Logger, err)
		return
	}
	// Connectors read the plain body; the caller's bytes are forwarded unless rewritten.
	enc := requestEncoding(r.Header)
	body, readable := raw, true
	if p.up.Connector != nil && len(raw) > 0 {
		if body, readable, err = decodeBody(enc, raw, p.deps.Limits.Body); err != nil {
			writeError(w, r, p.deps.Logger, err)
			return
		}
	}
	out := &gateway.OutboundRequest{
		Upstream: p.up.Name,
		Method:   r.Method,
		Path:     rest,
		Query:    r.URL.Query(),
		Header:   forwardHeader(r.Header),
		Body:     body,
	}
	plan, err := p.plan(ctx, r.Header, out, readable)
	if err != nil {
		writeError(w, r, p.deps.Logger, err)
		return
	}
	if plan.local != nil {
		writeLocal(w, *plan.local)
		return
	}
	// A send that names nobody has nothing to drop: it goes on as it is.
	if plan.isSend && !p.shadow() && plan.allowed == 0 && plan.dropped > 0 {
		setHushHeaders(w.Header(), plan, false)
		if p.answerDeferred(w, plan) {
			return
		}
		forwarded, err := p.forwardDropped(out, &plan)
		if err != nil {
			writeError(w, r, p.deps.Logger, err)
			return
		}
		if !forwarded {
			p.answerAllDropped(w, out, plan)
			return
		}
		// Forwarded in its harmless form: the upstream's answer carries the counts.
		w.Header().Del("Hush-Allowed")
		w.Header().Del("Hush-Dropped")
	}
	fwd := raw
	if plan.rewritten {
		if fwd, err = encodeBody(enc, plan.body); err != nil {
			p.release(ctx, plan)
			writeError(w, r, p.deps.Logger, err)
			return
		}
	}
	p.forward(w, r, proxyTarget(p.up.URL, rawRest, rest, r.URL.RawQuery), plan, out, fwd)
}

// forwardDropped lets an upstream that can (gateway.DroppedForwarder) forward a harmless
// form of a fully dropped send instead of hush answering it.
func (p *proxyExchange) forwardDropped(out *gateway.OutboundRequest, plan *sendPlan) (bool, error) {
	f, ok := p.up.Connector.(gateway.DroppedForwarder)
	if !ok {
		return false, nil
	}
	body, ok, err := f.ForwardDropped(out, plan.send)
	if err != nil {
		return false, fmt.Errorf("rewrite %s dropped send: %w", p.up.Name, err)
	}
	if ok {
		plan.body, plan.rewritten = body, true
	}
	return ok, nil
}

// plan parses a send and asks the policy about its recipients. Errors are answers to the
// caller: in enforce mode a send hush cannot check is never forwarded. readable is false
// when the body is compressed in a way hush does not read.
func (p *proxyExchange) plan(ctx context.Context, inHeader http.Header, out *gateway.OutboundRequest, readable bool) (sendPlan, error) {
	var pass sendPlan
	if p.up.Connector == nil {
		return pass, nil
	}
	logger := p.deps.Logger.With("upstream", p.up.Name)
	send, err := p.up.Connector.ParseSend(out)
	if err == nil && send != nil && !readable {
		err = errors.New("compressed body")
	}
	if err != nil {
		if p.shadow() {
			// The connector's message may quote the body; it goes to the caller, not the log.
			logger.WarnContext(ctx, "shadow: send not parsed; forwarded unchecked", "path", out.Path)
			return pass, nil
		}
		if !readable {
			return pass, invalidf("the send could not be read, so it was not forwarded: hush reads request bodies plain or with Content-Encoding: gzip, not %s", requestEncoding(out.Header))
		}
		return pass, invalidf("the send could not be read, so it was not forwarded: %s", messageOf(err))
	}
	if send == nil {
		if la, ok := p.up.Connector.(gateway.LocalAnswerer); ok {
			if status, header, body, ok := la.AnswerLocally(out); ok {
				pass.local = &localAnswer{status: status, header: header, body: body}
			}
		}
		return pass, nil
	}
	ch, cat, err := p.channelAndCategory(inHeader, send)
	if err != nil {
		if p.shadow() {
			logger.WarnContext(ctx, "shadow: send channel unknown; forwarded unchecked", "err", err)
			return pass, nil
		}
		return pass, err
	}
	// Recipients that do not parse: in enforce mode the send is refused; in shadow mode the
	// others are still decided, so the shadow count is as close to the truth as it can be.
	ids := make([]gateway.Identity, 0, len(send.Recipients))
	index := make([]int, len(send.Recipients)) // recipient → position in ids, or -1
	for i, rc := range send.Recipients {
		id, err := recipientIdentity(rc, p.deps.DefaultRegion)
		if err != nil {
			if !p.shadow() {
				return pass, invalidf("recipients[%d]: %v", i, err)
			}
			logger.WarnContext(ctx, "shadow: recipient not parsed", "index", i)
			index[i] = -1
			continue
		}
		index[i] = len(ids)
		ids = append(ids, id)
	}
	plan := sendPlan{send: send, isSend: true}
	if len(ids) > 0 {
		decisions, err := p.deps.Engine.Decide(ctx, gateway.DecisionRequest{
			Channel:    ch,
			Category:   cat,
			Recipients: ids,
			Upstream:   p.up.Name,
			Record:     true,
			Shadow:     p.shadow(),
		})
		if err == nil && len(decisions) != len(ids) {
			err = fmt.Errorf("engine answered %d decisions for %d recipients", len(decisions), len(ids))
		}
		if err != nil {
			if p.shadow() {
				logger.ErrorContext(ctx, "shadow: decision failed; forwarded unchecked", "err", err)
				return pass, nil
			}
			logger.ErrorContext(ctx, "decision failed; send not forwarded", "err", err)
			return pass, &gateway.Error{Code: gateway.CodeUnavailable, Message: "hush could not check the recipients, so the send was not forwarded; retry later", Err: err}
		}
		plan.decisions = decisions
		countDecisions(p.deps.Metrics, decisions, p.up.Name)
	}
	keep := make([]bool, len(send.Recipients))
	plan.keep, plan.index = keep, index
	for i := range send.Recipients {
		keep[i] = index[i] < 0 || plan.decisions[index[i]].Allowed
		if keep[i] {
			plan.allowed++
		} else {
			plan.dropped++
		}
	}
	if p.shadow() {
		plan.shadow, plan.allowed, plan.dropped = plan.dropped, len(send.Recipients), 0
		return plan, nil
	}
	if plan.dropped > 0 && plan.allowed > 0 {
		body, err := p.up.Connector.Rewrite(out, send, keep)
		if err != nil {
			// Nothing is forwarded: every slot taken goes back (keep may have been changed).
			p.releaseDecisions(ctx, plan.decisions)
		}
		if errors.Is(err, gateway.ErrNothingToSend) {
			// The kept recipients cannot be written to alone: nobody is.
			for i := range keep {
				keep[i] = false
			}
			plan.dropped, plan.allowed = len(keep), 0
			return plan, nil
		}
		if err != nil {
			return pass, fmt.Errorf("rewrite %s send: %w", p.up.Name, err)
		}
		// Rewrite may have removed allowed recipients that cannot go without a dropped one
		// (the Cc of a message whose To was dropped): they are not contacted either.
		p.releaseUnkept(ctx, &plan)
		plan.body, plan.rewritten = body, true
	}
	return plan, nil
}

// channelAndCategory: the Hush-Channel header, else the send's own channel, else the
// upstream's; the Hush-Category header, else the send's own (the vendor's fields as the
// upstream's options map them), else the upstream's (unknown: marketing).
func (p *proxyExchange) channelAndCategory(h http.Header, send *gateway.Send) (gateway.Channel, gateway.Category, error) {
	ch := send.Channel
	if v := h.Get("Hush-Channel"); v != "" {
		c, err := gateway.ParseChannel(v, false)
		if err != nil {
			return "", "", invalidf("Hush-Channel: %v", err)
		}
		ch = c
	}
	if ch == "" {
		ch = p.up.Channel
	}
	if ch == "" {
		return "", "", invalidf("the channel of this send is unknown; set the Hush-Channel header or the upstream's channel")
	}
	cat := p.up.Category
	if send.Category != "" {
		cat = send.Category
	}
	if v := h.Get("Hush-Category"); v != "" {
		cat = gateway.Category(v)
	}
	return ch, gateway.SendCategory(string(cat)), nil
}

// recipientIdentity reads a recipient the connector found, by its kind.
func recipientIdentity(rc gateway.Recipient, region string) (gateway.Identity, error) {
	switch rc.Kind {
	case gateway.KindEmail:
		return gateway.NormalizeEmail(rc.Address)
	case gateway.KindPhone, "whatsapp":
		return gateway.NormalizePhone(rc.Address, region)
	case "":
		return gateway.ParseIdentity(rc.Address, region)
	default:
		return gateway.VendorIdentity(rc.Kind, rc.Address)
	}
}

func setHushHeaders(h http.Header, plan sendPlan, shadow bool) {
	h.Set("Hush-Allowed", strconv.Itoa(plan.allowed))
	h.Set("Hush-Dropped", strconv.Itoa(plan.dropped))
	if shadow {
		h.Set("Hush-Shadow", strconv.Itoa(plan.shadow))
	}
}

// answerDeferred answers 429 a send none of whose recipients may be contacted when some are
// only deferred by quiet hours: the caller should send again later, not forget the send.
func (p *proxyExchange) answerDeferred(w http.ResponseWriter, plan sendPlan) bool {
	retry, ok := deferredFor(plan.decisions, p.deps.Now())
	if !ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	writeErrorStatus(w, http.StatusTooManyRequests, gateway.CodeUnavailable,
		fmt.Sprintf("every recipient is in quiet hours; retry after %d seconds", retry))
	return true
}

// answerAllDropped answers a send none of whose recipients may be contacted, without
// forwarding it, in the vendor's own success (or refusal) shape.
func (p *proxyExchange) answerAllDropped(w http.ResponseWriter, out *gateway.OutboundRequest, plan sendPlan) {
	status, header, body := p.up.Connector.DroppedResponse(out, plan.send, p.up.OnAllDropped == AllDroppedError)
	writeLocal(w, localAnswer{status: status, header: header, body: body})
}

// writeLocal writes an answer hush gives in the upstream's place.
func writeLocal(w http.ResponseWriter, a localAnswer) {
	for k, vs := range a.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// deferredFor reports whether any decision is a quiet-hours defer, and the seconds until
// the earliest of them ends.
func deferredFor(decisions []gateway.Decision, now time.Time) (int, bool) {
	var earliest *time.Time
	deferred := false
	for _, d := range decisions {
		if d.Allowed || !d.Defer {
			continue
		}
		deferred = true
		if d.Until != nil && (earliest == nil || d.Until.Before(*earliest)) {
			earliest = d.Until
		}
	}
	if !deferred {
		return 0, false
	}
	if earliest == nil {
		return 60, true
	}
	secs := int(math.Ceil(earliest.Sub(now).Seconds()))
	return max(secs, 1), true
}

// forward sends the (possibly rewritten) request to the upstream. It is never retried: a
// retry could send twice.
func (p *proxyExchange) forward(w http.ResponseWriter, r *http.Request, target *url.URL, plan sendPlan, out *gateway.OutboundRequest, body []byte) {
	start := time.Now()
	logger := p.deps.Logger.With("upstream", p.up.Name)
	editor := p.responseEditor(plan)
	rp := &httputil.ReverseProxy{
		Transport:  p.deps.Transport,
		BufferPool: p.buffers,
		ErrorLog:   slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = "" // the upstream's own host, never the caller's
			pr.Out.Header = forwardHeader(pr.Out.Header)
			pr.Out.Header.Del("Content-Length")
			if editor != nil {
				// hush edits this answer: ask for it uncompressed.
				pr.Out.Header.Set("Accept-Encoding", "identity")
			}
			pr.Out.ContentLength = int64(len(body))
			if len(body) == 0 {
				pr.Out.Body = http.NoBody
				pr.Out.GetBody = nil
			} else {
				pr.Out.Body = io.NopCloser(bytes.NewReader(body))
				pr.Out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			p.deps.Metrics.upstreamSeconds.WithLabelValues(p.up.Name).Observe(time.Since(start).Seconds())
			stripHushHeaders(resp.Header)
			if plan.isSend {
				setHushHeaders(resp.Header, plan, p.shadow())
			}
			if resp.StatusCode >= 500 {
				// The upstream failed the send: the recipients were not contacted.
				p.release(resp.Request.Context(), plan)
			}
			if editor != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
				p.editResponse(resp, editor, plan, out)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			p.release(req.Context(), plan)
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil && !errors.Is(r.Context().Err(), context.DeadlineExceeded) {
				// The caller went away; nobody is left to answer.
				logger.InfoContext(req.Context(), "caller left before the upstream answered")
				return
			}
			// A *url.Error would carry the query string, which can carry recipients.
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			logger.WarnContext(req.Context(), "upstream did not answer", "err", err)
			writeErrorStatus(w, http.StatusBadGateway, gateway.CodeUnavailable,
				fmt.Sprintf("upstream %s did not answer", p.up.Name))
		},
	}
	rp.ServeHTTP(w, r)
}

// release gives back the cap slots of the send's forwarded recipients: the send did not
// happen.
func (p *proxyExchange) release(ctx context.Context, plan sendPlan) {
	var taken []gateway.Decision
	for i, k := range plan.keep {
		if k && plan.index[i] >= 0 {
			taken = append(taken, plan.decisions[plan.index[i]])
		}
	}
	p.releaseDecisions(ctx, taken)
}

// releaseUnkept recounts a send after Rewrite and gives back the cap slots of allowed
// recipients the connector had to remove with a dropped one.
func (p *proxyExchange) releaseUnkept(ctx context.Context, plan *sendPlan) {
	var freed []gateway.Decision
	plan.allowed = 0
	for i, k := range plan.keep {
		switch {
		case k:
			plan.allowed++
		case plan.index[i] >= 0 && plan.decisions[plan.index[i]].Allowed:
			freed = append(freed, plan.decisions[plan.index[i]])
		}
	}
	plan.dropped = len(plan.keep) - plan.allowed
	p.releaseDecisions(ctx, freed)
}

func (p *proxyExchange) releaseDecisions(ctx context.Context, decisions []gateway.Decision) {
	var taken []gateway.Decision
	for _, d := range decisions {
		if d.Allowed && (d.ContactID != "" || d.ID != "") {
			taken = append(taken, d)
		}
	}
	if len(taken) == 0 {
		return
	}
	// The caller may have gone; the slots must come back regardless.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.deps.Engine.Release(ctx, taken); err != nil {
		p.deps.Logger.ErrorContext(ctx, "cap slots not released", "upstream", p.up.Name, "n", len(taken), "err", err)
	}
}

// maxEditedResponse bounds an upstream answer hush reads to edit (a batch answer is a few
// hundred bytes per message).
const maxEditedResponse = 8 << 20

// responseEditor is the upstream's ResponseEditor when the answer to this send must be
// edited: some of its recipients were dropped, others forwarded.
func (p *proxyExchange) responseEditor(plan sendPlan) gateway.ResponseEditor {
	if !plan.isSend || plan.dropped == 0 || plan.allowed == 0 || p.shadow() {
		return nil
	}
	e, _ := p.up.Connector.(gateway.ResponseEditor)
	return e
}

// editResponse replaces a 2xx answer's body with the connector's edit of it. Any failure
// leaves the upstream's answer as it was: the send happened, only the answer is less
// complete.
func (p *proxyExchange) editResponse(resp *http.Response, editor gateway.ResponseEditor, plan sendPlan, out *gateway.OutboundRequest) {
	logger := p.deps.Logger.With("upstream", p.up.Name)
	ctx := resp.Request.Context()
	if enc := requestEncoding(resp.Header); enc != "" {
		logger.WarnContext(ctx, "answer to a partly dropped send left unedited: the upstream compressed it", "encoding", enc)
		return
	}
	orig, err := io.ReadAll(io.LimitReader(resp.Body, maxEditedResponse+1))
	setBody := func(b []byte) {
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		resp.TransferEncoding = nil
	}
	if err != nil || len(orig) > maxEditedResponse {
		// Forward what was read followed by the rest of the stream, unedited.
		logger.WarnContext(ctx, "answer to a partly dropped send left unedited: could not read it whole", "err", err, "limit", maxEditedResponse)
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(orig), resp.Body), resp.Body}
		return
	}
	_ = resp.Body.Close()
	edited, err := editor.EditResponse(out, plan.send, plan.keep, resp.StatusCode, resp.Header, orig)
	if err != nil {
		logger.WarnContext(ctx, "answer to a partly dropped send left unedited", "err", err)
		setBody(orig)
		return
	}
	setBody(edited)
}
