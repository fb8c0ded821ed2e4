"""Signing in through the login page, as a person does (django-axes needs the request, so
tests do not use ``client.login``)."""


def sign_in(client, username: str, password: str, **extra) -> bool:
    response = client.post("/admin/login/", {"username": username, "password": password},
                           **extra)
    return response.status_code == 302 and "_auth_user_id" in client.session
