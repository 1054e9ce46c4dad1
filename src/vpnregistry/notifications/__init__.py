"""Telling people: a notification in the portal and an email, to each in their own language.

`services` writes them (any layer above may call it), `mail` sends the emails by a task with retries.
What an application's transition tells whom is the applications app's (applications/notifications.py).
"""
