package server

import (
	"net/http"

	"github.com/hush-gateway/hush/gateway/server/console"
)

func (u *ui) rulesPage(w http.ResponseWriter, r *http.Request, v *console.View) {
	http.Error(w, "not built yet", http.StatusNotImplemented)
}
