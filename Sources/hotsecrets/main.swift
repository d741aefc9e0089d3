import HotSecretsCLI

await HotSecrets.execute()
