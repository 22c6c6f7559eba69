"""Post-deploy smoke test: does a deployment answer, refuse strangers, reach its model and its sandbox?

azd's postdeploy hook runs it (infra/hooks/postdeploy.*); run it by hand with

    python -m smoke --endpoint https://<app>.azurewebsites.net --key <api key>

Standard library only, so it runs on any machine with Python 3.11 without installing anything.
`checks` turns what was observed into verdicts with a next step (pure, unit-tested);
`probes` talks to the API.
"""
