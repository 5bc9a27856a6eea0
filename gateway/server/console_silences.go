package server

import (
	"net/http"

	"github.com/hush-gateway/hush/gateway/server/console"
)

func (u *ui) silencesPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) silencePage(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) silenceNewPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) silenceCreate(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) silenceLift(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) silenceExtend(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}
