package twilio

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzAnswerLocally: hush answers in Twilio's place only for a Message or Call sid it made
// up itself (a real sid always goes to Twilio), only for GET, POST and DELETE, and its
// answer is Twilio's shape: 204 for DELETE, else JSON naming the same sid and account.
// Seeds are the paths of sids made up by answering the testdata sends.
func FuzzAnswerLocally(f *testing.F) {
	u := newTestUpstream(f, nil)
	files, _ := filepath.Glob(filepath.Join("testdata", "outbound", "*.form"))
	const account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		collection := "Messages"
		if strings.HasPrefix(filepath.Base(name), "call_") {
			collection = "Calls"
		}
		req := outboundRequest(http.MethodPost, "/2010-04-01/Accounts/"+account+"/"+collection+".json", body)
		s, err := u.ParseSend(req)
		if err != nil || s == nil {
			continue
		}
		_, _, answer := u.DroppedResponse(req, s, false)
		var made struct {
			Sid string `json:"sid"`
		}
		if json.Unmarshal(answer, &made) == nil && made.Sid != "" {
			f.Add(http.MethodGet, "/2010-04-01/Accounts/"+account+"/"+collection+"/"+made.Sid+".json")
		}
	}
	f.Add(http.MethodGet, "/2010-04-01/Accounts/"+account+"/Messages/SM0123456789abcdef0123456789abcdef.json")
	f.Add(http.MethodDelete, "/2010-04-01/Accounts/"+account+"/Calls/CA.json")
	f.Add(http.MethodPut, "/2010-04-01/Accounts//Messages/.json")
	fresh := newTestUpstream(f, nil) // remembers nothing: answers from the sid alone
	f.Fuzz(func(t *testing.T, method, path string) {
		for _, up := range []*Upstream{u, fresh} {
			status, _, body, ok := up.AnswerLocally(outboundRequest(method, path, nil))
			if !ok {
				continue
			}
			if method != http.MethodGet && method != http.MethodPost && method != http.MethodDelete {
				t.Fatalf("answered %s %q", method, path)
			}
			acct, tail, _ := splitAccount(path)
			collection, file, _ := strings.Cut(tail, "/")
			sid := strings.TrimSuffix(file, ".json")
			res := messages
			if collection == calls.collection {
				res = calls
			}
			if !isMadeUp(res, acct, sid) {
				t.Fatalf("answered %s %q in Twilio's place: the sid is not one hush made up", method, path)
			}
			if method == http.MethodDelete {
				if status != http.StatusNoContent {
					t.Fatalf("DELETE %q answered %d", path, status)
				}
				continue
			}
			var got struct {
				Sid        string `json:"sid"`
				AccountSid string `json:"account_sid"`
			}
			if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Sid != sid || got.AccountSid != acct {
				t.Fatalf("%s %q answered %d %s", method, path, status, body)
			}
		}
	})
}
