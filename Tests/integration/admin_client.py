"""A plain HTTP client for Depot's admin API, signing SigV4 with botocore's signer (not Depot's
code), so the tests check the server against an independent implementation."""
import json

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER


class Admin:
    def __init__(self, endpoint, access_key=ROOT_USER, secret_key=ROOT_PASSWORD):
        self.endpoint = endpoint
        self.credentials = Credentials(access_key, secret_key)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        request = AWSRequest(method=method, url=self.endpoint + path, data=data,
                             headers={"content-type": "application/json"} if body is not None else {})
        S3SigV4Auth(self.credentials, "s3", "us-east-1").add_auth(request)
        response = requests.request(method, self.endpoint + path, data=data, headers=dict(request.headers), timeout=60)
        try:
            payload = response.json()
        except ValueError:
            payload = {"raw": response.text}
        return response.status_code, payload

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    def put(self, path, body):
        return self.call("PUT", path, body)

    def patch(self, path, body):
        return self.call("PATCH", path, body)

    def delete(self, path):
        return self.call("DELETE", path)
