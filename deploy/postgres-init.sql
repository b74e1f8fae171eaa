CREATE DATABASE faceit_prefect;
