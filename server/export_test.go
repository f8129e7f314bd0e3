package server

import "github.com/gorilla/mux"

// RouteTemplates lists "METHOD /path/template" for every route, for the
// black-box tests.
func (s *Server) RouteTemplates() []string {
	var out []string
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		t, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter's prefix
		}
		for _, m := range ms {
			out = append(out, m+" "+t)
		}
		return nil
	})
	return out
}
