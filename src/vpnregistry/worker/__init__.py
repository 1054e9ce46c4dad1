"""Work that need not make anyone wait: Celery tasks, the worker and the scheduler (beat).

`celery.py` is the Celery app and `dispatch`, which lower layers may use to ask for a task by name
(they never import the tasks); `tasks.py` holds the tasks, which call the apps' services.
"""
