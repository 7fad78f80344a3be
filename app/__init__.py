"""The sample service: users, auth and notes, served over REST and gRPC."""
