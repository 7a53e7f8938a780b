"""The facilitators' admin panel (Flask-Admin)."""


def init_app(app, services) -> None:
    """Mount the admin on `app` (see admin/setup.py)."""
    from admin.setup import init_admin

    init_admin(app, services)
