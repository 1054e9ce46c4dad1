"""The restrictions' part of the REST API: restriction events and services, exemption checks (one
address, a file, a job), exemption statements and complaints."""
