// Package console holds the admin console's parts that do not need the HTTP server: the
// English and Spanish message catalog and language negotiation, signed sessions and CSRF
// tokens, locale formatting, the server-drawn SVG charts, and the embedded templates and
// assets. The handlers that use them live in package server, beside the admin API they share
// their operations with (DESIGN §8).
package console
