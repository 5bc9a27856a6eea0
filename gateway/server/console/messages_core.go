package console

// coreMessages are the strings of the layout, sign-in, dashboard and rules pages.
func coreMessages() map[string]Message {
	return map[string]Message{
		"app.name":        {EN: "hush", ES: "hush"},
		"nav.dashboard":   {EN: "Dashboard", ES: "Panel"},
		"nav.customers":   {EN: "Customers", ES: "Clientes"},
		"nav.silences":    {EN: "Silences", ES: "Silencios"},
		"nav.incidents":   {EN: "Incidents", ES: "Incidencias"},
		"nav.deadletters": {EN: "Dead letters", ES: "Mensajes fallidos"},
		"nav.rules":       {EN: "Rules", ES: "Reglas"},
	}
}
