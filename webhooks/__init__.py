"""Twilio webhooks: verify, parse, one service call, answer TwiML."""


def init_app(app, services) -> None:
    from webhooks.sessions import NoSessionForWebhooks
    from webhooks.sms import bp as sms_bp
    from webhooks.voice import bp as voice_bp

    app.register_blueprint(sms_bp)
    app.register_blueprint(voice_bp)
    app.session_interface = NoSessionForWebhooks()
