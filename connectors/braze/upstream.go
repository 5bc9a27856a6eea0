// Package braze is hush's upstream for the Braze REST API's messaging endpoints: it finds
// the users a send names (external ids, user aliases, Braze ids, emails), removes the ones
// hush's policy drops, and refuses what it cannot check.
//
// Braze differs from most send APIs in one dangerous way: a trigger or message with no
// recipient list does not go to nobody, it goes to the campaign's, Canvas's or segment's
// whole audience. So this package never forwards a list hush emptied, and treats a send
// that names nobody (broadcast: true, or only a segment_id or connected audience) as a
// broadcast it cannot check per recipient: refused unless the upstream allows broadcasts.
package braze

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/hush-gateway/hush/connectors/options"
	"github.com/hush-gateway/hush/gateway"
)

// Kind is the connector kind's name in configuration, and the vendor kind of the identities
// it finds: an external user id "u-81" is the identity "braze:u-81".
const Kind = "braze"

// The audience lists Braze reads, by the field that holds them.
const (
	listExternalIDs = "external_user_ids" // /messages/*: array of external ids
	listAliases     = "user_aliases"      // /messages/*: array of user alias objects
	listRecipients  = "recipients"        // triggers: array of recipient objects
)

var allLists = []string{listExternalIDs, listAliases, listRecipients}

// endpoint describes one of Braze's send endpoints.
type endpoint struct {
	lists     []string // the audience lists it documents
	idKey     string   // campaign_id or canvas_id: what the category and channel options key on
	messages  bool     // the send carries its own messages object (the channel comes from it)
	scheduled bool     // the answer carries a schedule_id
}

// endpoints are the sends, by path. Request bodies and answers as documented in Braze's REST
// API reference (braze-inc/braze-docs, _docs/_api/endpoints/messaging/): send_messages/
// post_send_messages.md, post_send_triggered_campaigns.md, post_send_triggered_canvases.md and
// schedule_messages/post_schedule_messages.md, post_schedule_triggered_campaigns.md,
// post_schedule_triggered_canvases.md.
var endpoints = map[string]endpoint{
	"/messages/send":                     {lists: []string{listExternalIDs, listAliases}, idKey: "campaign_id", messages: true},
	"/messages/schedule/create":          {lists: []string{listExternalIDs, listAliases}, idKey: "campaign_id", messages: true, scheduled: true},
	"/campaigns/trigger/send":            {lists: []string{listRecipients}, idKey: "campaign_id"},
	"/campaigns/trigger/schedule/create": {lists: []string{listRecipients}, idKey: "campaign_id", scheduled: true},
	"/canvas/trigger/send":               {lists: []string{listRecipients}, idKey: "canvas_id"},
	"/canvas/trigger/schedule/create":    {lists: []string{listRecipients}, idKey: "canvas_id", scheduled: true},
}

// messageChannels maps the keys of a /messages/* messages object to hush channels. Content
// Cards (shown inside the app) and webhooks (a call to the customer's own server) contact
// nobody on a channel hush governs, so they do not count.
var messageChannels = map[string]gateway.Channel{
	"apple_push":             gateway.ChannelPush,
	"android_push":           gateway.ChannelPush,
	"kindle_push":            gateway.ChannelPush,
	"web_push":               gateway.ChannelPush,
	"windows_phone8_push":    gateway.ChannelPush,
	"windows_universal_push": gateway.ChannelPush,
	"email":                  gateway.ChannelEmail,
	"sms":                    gateway.ChannelSMS,
	"whats_app":              gateway.ChannelWhatsApp,
}

// Upstream is one configured Braze REST endpoint. Safe for concurrent use: never modified
// after construction.
type Upstream struct {
	allowBroadcast   bool
	multiChannel     gateway.Channel // the channel of a /messages/* send naming several; "" refuses them
	campaigns        map[string]gateway.Category
	canvases         map[string]gateway.Category
	campaignChannels map[string]gateway.Channel
	canvasChannels   map[string]gateway.Channel
}

// NewUpstream reads the upstream's options:
//   - allow_broadcast (bool, default false): forward, unchecked, sends hush cannot check per
//     recipient (broadcast: true, or only a segment_id or audience); else they are refused.
//   - campaigns, canvases ({id: category}): the category of sends naming that campaign_id
//     (campaigns also covers a /messages/* send's campaign_id) or canvas_id.
//   - campaign_channels, canvas_channels ({id: channel}): the channel of a trigger of that
//     campaign or Canvas (the messages live in Braze's dashboard, not in the request).
//   - multi_channel (channel): how to decide a /messages/* send whose messages object uses
//     several channels; unset, such a send is refused.
func NewUpstream(cfg gateway.UpstreamConfig) (*Upstream, error) {
	r := options.NewReader(Kind, cfg.Options)
	u := &Upstream{
		allowBroadcast: r.Bool("allow_broadcast", false),
		campaigns:      r.Categories("campaigns"),
		canvases:       r.Categories("canvases"),
	}
	var errs []error
	u.campaignChannels = readChannels(r, "campaign_channels", &errs)
	u.canvasChannels = readChannels(r, "canvas_channels", &errs)
	if s := r.String("multi_channel", ""); s != "" {
		c, err := gateway.ParseChannel(s, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("option \"multi_channel\" for kind %q: %w", Kind, err))
		}
		u.multiChannel = c
	}
	errs = append(errs, r.Done())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("upstream %q: %w", cfg.Name, err)
	}
	return u, nil
}

// readChannels reads an {id: channel} mapping, adding its problems to errs.
func readChannels(r *options.Reader, key string, errs *[]error) map[string]gateway.Channel {
	var raw map[string]string
	if !r.Decode(key, &raw) {
		return nil
	}
	out := make(map[string]gateway.Channel, len(raw))
	for _, id := range slices.Sorted(maps.Keys(raw)) {
		c, err := gateway.ParseChannel(raw[id], false)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("option %q for kind %q: %q: %w", key, Kind, id, err))
			continue
		}
		out[id] = c
	}
	return out
}
