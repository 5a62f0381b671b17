-- Run once by the postgres image when its data volume is empty (deploy/compose.yaml, and the
-- StatefulSet of deploy/k8s/data.yaml): the staff console's own database. The tracker store's
-- database (POSTGRES_DB) is created by the image itself.
CREATE DATABASE ocop_console;
