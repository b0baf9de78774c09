@rem tf-diffusion's launcher for Windows: runs the command line with the jars in lib\ beside this bin\ folder.
@rem JAVA_HOME chooses the Java runtime (else java on the PATH); JAVA_OPTS is passed to it.
@echo off
setlocal

set "APP_HOME=%~dp0.."

if not defined JAVA_HOME goto javaOnPath
set "JAVA=%JAVA_HOME%\bin\java.exe"
if exist "%JAVA%" goto run
echo JAVA_HOME is %JAVA_HOME%, which has no bin\java.exe; point it at a Java 17 or newer, or unset it. 1>&2
exit /b 1

:javaOnPath
set "JAVA=java.exe"
where /q java.exe
if not errorlevel 1 goto run
echo No java on the PATH: install a Java 17 or newer runtime, or set JAVA_HOME to one. 1>&2
exit /b 1

:run
"%JAVA%" %JAVA_OPTS% -cp "%APP_HOME%\lib\*" dev.tfdiffusion.cli.Main %*
exit /b %ERRORLEVEL%
