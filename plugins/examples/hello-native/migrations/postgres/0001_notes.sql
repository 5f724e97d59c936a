CREATE TABLE hello_native__notes (
    id BIGSERIAL PRIMARY KEY,
    author TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE hello_native__greetings_heard (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL
);
