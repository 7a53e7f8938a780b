"""The read API at /api/v1/: views in readapi/routes.py, tokens, audit and limits in
readapi/access.py."""


def init_app(app, services) -> None:
    from readapi import access, routes

    blueprint, registry = routes.build(services)
    limiter = access.install(app, services, blueprint)
    app.register_blueprint(blueprint)
    limiter.init_app(app)
    limiter.exempt(app.view_functions["api.openapi"])
    app.extensions["realign_api"] = registry
