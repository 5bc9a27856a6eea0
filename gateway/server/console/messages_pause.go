package console

// pauseMessages are the strings of issue #10's customer self-service pause page in both languages.
// The customer reads these, not the team: plain words, no hush vocabulary.
func pauseMessages() map[string]Message {
	return map[string]Message{
		"pause.title": {EN: "Choose what we send you", ES: "Elige qué te enviamos"},
		"pause.intro": {
			EN: "You can take a break from our messages. Choose one of these options; you do not need to sign in.",
			ES: "Puedes tomarte un respiro de nuestros mensajes. Elige una de estas opciones; no hace falta que inicies sesión.",
		},
		"pause.marketing.title": {EN: "Pause marketing for %d days", ES: "Pausar la publicidad durante %d días"},
		"pause.marketing.text": {
			EN: "No offers or sales calls for %d days. Messages about your account, orders and service keep coming.",
			ES: "Nada de ofertas ni llamadas comerciales durante %d días. Seguirás recibiendo los mensajes sobre tu cuenta, tus pedidos y el servicio.",
		},
		"pause.marketing.submit": {EN: "Pause marketing", ES: "Pausar la publicidad"},
		"pause.essential.title":  {EN: "Only essential messages", ES: "Solo mensajes imprescindibles"},
		"pause.essential.text": {
			EN: "For a year we will only contact you about your account, your orders, and incidents that affect your service: no offers, sales calls or surveys.",
			ES: "Durante un año solo te escribiremos sobre tu cuenta, tus pedidos y las incidencias que afecten a tu servicio: nada de ofertas, llamadas comerciales ni encuestas.",
		},
		"pause.essential.submit": {EN: "Only essential messages", ES: "Solo lo imprescindible"},
		"pause.current.marketing": {
			EN: "Marketing is already paused until %s. Choosing again keeps the same date.",
			ES: "La publicidad ya está en pausa hasta el %s. Si vuelves a elegirlo, se mantiene la misma fecha.",
		},
		"pause.current.essential": {
			EN: "You already receive only essential messages until %s. Choosing again keeps the same date.",
			ES: "Ya recibes solo mensajes imprescindibles hasta el %s. Si vuelves a elegirlo, se mantiene la misma fecha.",
		},
		"pause.choices": {EN: "Your options", ES: "Tus opciones"},

		"pause.done.title": {EN: "Done, thank you", ES: "Hecho, gracias"},
		"pause.done.marketing": {
			EN: "We will not send you marketing until %s. Messages about your account and service keep coming.",
			ES: "No te enviaremos publicidad hasta el %s. Seguirás recibiendo los mensajes sobre tu cuenta y el servicio.",
		},
		"pause.done.essential": {
			EN: "Until %s we will only send you essential messages: your account, your orders and incidents that affect your service.",
			ES: "Hasta el %s solo te enviaremos mensajes imprescindibles: tu cuenta, tus pedidos y las incidencias que afecten a tu servicio.",
		},
		"pause.done.change": {
			EN: "Changed your mind? Open the same link again and choose the other option.",
			ES: "¿Has cambiado de idea? Abre el mismo enlace y elige la otra opción.",
		},

		"pause.refused.title": {EN: "This link does not work", ES: "Este enlace no funciona"},
		"pause.refused.text": {
			EN: "This link cannot be used, perhaps because it is old or incomplete. Use the link in our most recent email, or contact us and we will help you.",
			ES: "No podemos usar este enlace, quizá porque es antiguo o está incompleto. Usa el enlace de nuestro correo más reciente o escríbenos y te ayudaremos.",
		},
		"pause.failed.text": {
			EN: "Something failed on our side and nothing was changed. Please try again in a moment.",
			ES: "Algo ha fallado por nuestra parte y no se ha cambiado nada. Vuelve a intentarlo en un momento.",
		},
	}
}
