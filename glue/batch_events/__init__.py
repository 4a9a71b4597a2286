"""The batch layer's transformation logic, in plain Python (standard library only, no
awsglue or pyspark imports) so it runs and is tested anywhere: the Glue jobs
(glue/jobs/*.py), the EMR Serverless replay and glue/local_job.py map their data through
these functions. Glue ships it to the job as a zip passed with --extra-py-files.
"""
