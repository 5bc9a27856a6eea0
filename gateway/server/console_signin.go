package server

import (
	"net/http"

	"github.com/hush-gateway/hush/gateway/server/console"
)

func (u *ui) signinPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) signin(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) signout(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}

func (u *ui) setLang(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}
