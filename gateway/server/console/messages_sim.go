package console

// simMessages are the strings of issue #10's simulation (rules page) in both languages.
func simMessages() map[string]Message {
	return map[string]Message{
		"sim.title":       {EN: "Simulate a change", ES: "Simular un cambio"},
		"sim.intro":       {EN: "Write the rules as in hush.yaml and see what they would have done over a past period: who would have been silenced and which recorded sends they would have dropped or let through. Nothing changes: the stored events are replayed in a scratch copy.", ES: "Escribe las reglas como en hush.yaml y mira qué habrían hecho en un periodo pasado: a quién habrían silenciado y qué envíos registrados habrían bloqueado o dejado pasar. No cambia nada: los eventos guardados se reproducen en una copia aparte."},
		"sim.rules":       {EN: "Rules (YAML)", ES: "Reglas (YAML)"},
		"sim.period":      {EN: "Period", ES: "Periodo"},
		"sim.days":        {EN: "Last %s days", ES: "Últimos %s días"},
		"sim.run":         {EN: "Simulate", ES: "Simular"},
		"sim.error":       {EN: "These rules cannot be simulated:", ES: "Estas reglas no se pueden simular:"},
		"sim.unavailable": {EN: "Simulation is not available in this server.", ES: "La simulación no está disponible en este servidor."},
		"sim.result":      {EN: "Result", ES: "Resultado"},
		"sim.period.is":   {EN: "From %s to %s; %s events replayed.", ES: "Del %s al %s; %s eventos reproducidos."},
		"sim.silences":    {EN: "Silences these rules would create", ES: "Silencios que crearían estas reglas"},
		"sim.customers":   {EN: "Customers silenced", ES: "Clientes silenciados"},
		"sim.shadow":      {EN: "Silences in shadow mode (not enforced)", ES: "Silencios en modo sombra (no se aplican)"},
		"sim.rule":        {EN: "Rule", ES: "Regla"},
		"sim.count":       {EN: "Count", ES: "Cantidad"},
		"sim.sample":      {EN: "Sample of customers", ES: "Muestra de clientes"},
		"sim.customer":    {EN: "Customer", ES: "Cliente"},
		"sim.silence":     {EN: "Silence", ES: "Silencio"},
		"sim.trigger":     {EN: "Triggering event", ES: "Evento que la activó"},
		"sim.resolved":    {EN: "until resolved", ES: "hasta que se resuelva"},
		"sim.none":        {EN: "None.", ES: "Ninguno."},
		"sim.sends":       {EN: "Recorded sends", ES: "Envíos registrados"},
		"sim.sends.is":    {EN: "%s recorded sends: %s dropped by hush, %s with these rules.", ES: "%s envíos registrados: hush bloqueó %s; con estas reglas, %s."},
		"sim.dropped":     {EN: "Newly dropped (allowed, these rules would drop)", ES: "Nuevos bloqueos (se permitieron, estas reglas los bloquearían)"},
		"sim.allowed":     {EN: "Newly allowed (dropped by a rule's silence, these rules would allow)", ES: "Nuevos permitidos (los bloqueó el silencio de una regla, estas reglas los permitirían)"},
		"sim.byrule":      {EN: "By rule", ES: "Por regla"},
		"sim.bychannel":   {EN: "By channel", ES: "Por canal"},
	}
}
