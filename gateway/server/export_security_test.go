package server

import (
	"github.com/gorilla/mux"
)

// Route is one route of the HTTP surface as routes.go declares it, for tests that must
// cover every route (security_test.go walks them so that a new route without a case fails).
type Route struct {
	Template string
	Methods  []string
}

// Routes lists every route addRoutes declares, in declaration order.
func Routes(deps Deps) ([]Route, error) {
	deps = withDefaults(deps)
	r := mux.NewRouter()
	addRoutes(r, deps)
	var out []Route
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			methods = nil // PathPrefix routes without Methods: every method
		}
		out = append(out, Route{Template: tpl, Methods: methods})
		return nil
	})
	return out, err
}
