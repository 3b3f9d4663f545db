"""`python -m grader_service` runs the service."""

from grader_service.app import main

main()
