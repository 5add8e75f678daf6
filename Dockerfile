# The mindq image: every role runs from it (see docker-compose.yml). GPU hosts add the `gpu`
# extra (bitsandbytes) and a CUDA build of torch.
FROM python:3.11-slim
ARG EXTRAS=""
ENV PYTHONUNBUFFERED=1 MINDQ_HOME=/var/lib/mindq MINDQ_API_HOST=0.0.0.0
WORKDIR /app
# constraints.txt: the lock of the tested versions, the same one dev.py installs with
COPY setup.cfg setup.py README.md constraints.txt ./
COPY core core
COPY llm llm
COPY api api
COPY jobstore jobstore
COPY migrations migrations
COPY mindq mindq
COPY phi phi
COPY prompts prompts
COPY tasks tasks
COPY worker worker
COPY forecasting forecasting
RUN pip install --no-cache-dir -c constraints.txt ".${EXTRAS}" && useradd --system --home /var/lib/mindq mindq \
    && mkdir -p /var/lib/mindq && chown mindq /var/lib/mindq
USER mindq
EXPOSE 8000 5555
CMD ["mindq", "web"]
